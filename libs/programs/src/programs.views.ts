import { CommissionRule } from './programs.events';
import { latestVersion, ProgramState, settingsAt } from './program.state';
import { DirectoryAffiliate } from './directory.projection';

/** The program as the API shows it: settings in effect now, plus changes scheduled for later. */
export function programView(state: ProgramState, now: Date) {
  const nowIso = now.toISOString();
  const { settings, version } = settingsAt(state, nowIso);
  return {
    id: state.programId,
    ...settings,
    settingsVersion: version,
    latestSettingsVersion: latestVersion(state),
    scheduledChanges: state.changes
      .filter((c) => Date.parse(c.effectiveAt) > now.getTime())
      .map((c) => ({ version: c.version, effectiveAt: c.effectiveAt, changes: c.changes })),
    storefronts: state.storefronts.map((s) => ({ id: s.storefrontId, name: s.name, createdAt: s.occurredAt })),
    createdAt: state.createdAt,
  };
}

export function affiliateView(a: DirectoryAffiliate, link: string) {
  return {
    id: a.affiliateId,
    programId: a.programId,
    name: a.name,
    email: a.email,
    code: a.code,
    link,
    landingUrl: a.landingUrl,
    commission: a.commission as CommissionRule | null,
    status: a.status,
    enrolledAt: a.enrolledAt,
  };
}
