import { lazy, Suspense } from 'react';
import { Link, Route, Switch, useLocation, useRoute } from 'wouter';
import { PageBoundary } from '../components/boundary';
import { useApi } from '../app';
import { ErrorBox, Loading, useLoad } from '../components/common';
import { DashboardPage } from './dashboard';

// The dashboard is the first view: it ships in the main bundle; the other pages load when opened.
const AffiliatesPage = lazy(() => import('./affiliates').then((m) => ({ default: m.AffiliatesPage })));
const AffiliatePage = lazy(() => import('./affiliate').then((m) => ({ default: m.AffiliatePage })));
const AttributionPage = lazy(() => import('./attribution').then((m) => ({ default: m.AttributionPage })));
const SettingsPage = lazy(() => import('./settings').then((m) => ({ default: m.SettingsPage })));

/** One program: its name, the tabs, and the page of the tab (routes below are relative to /programs/:id). */
export function ProgramShell({ programId }: { programId: string }) {
  const api = useApi();
  const program = useLoad(() => api.program(programId), [api, programId]);
  const [location] = useLocation();
  if (program.loading && !program.data) return <Loading what="the program" />;
  if (program.error != null || !program.data) return <ErrorBox error={program.error} retry={program.reload} />;
  const p = program.data;
  return (
    <>
      <p className="crumbs">
        <Link href="~/">All programs</Link> / {p.name}
      </p>
      <nav className="tabs" aria-label="Program">
        <Tab href="/">Dashboard</Tab>
        <Tab href="/affiliates">Affiliates</Tab>
        <Tab href="/attribution">Attribution gaps</Tab>
        <Tab href="/settings">Settings</Tab>
      </nav>
      <PageBoundary key={location}>
      <Suspense fallback={<Loading what="the page" />}>
      <Switch>
        <Route path="/">
          <DashboardPage program={p} />
        </Route>
        <Route path="/affiliates">
          <AffiliatesPage program={p} />
        </Route>
        <Route path="/affiliates/:affiliateId">{(params) => <AffiliatePage program={p} affiliateId={params.affiliateId} />}</Route>
        <Route path="/attribution">
          <AttributionPage program={p} />
        </Route>
        <Route path="/settings">
          <SettingsPage program={p} onChanged={program.reload} />
        </Route>
        <Route>
          <p>This page does not exist in the program. Pick a tab above.</p>
        </Route>
      </Switch>
      </Suspense>
      </PageBoundary>
    </>
  );
}

function Tab({ href, children }: { href: string; children: string }) {
  const [active] = useRoute(href === '/' ? '/' : `${href}/*?`);
  const [exact] = useRoute(href);
  const current = active || exact;
  return (
    <Link href={href} aria-current={current ? 'page' : undefined} className={current ? 'active' : undefined}>
      {children}
    </Link>
  );
}
