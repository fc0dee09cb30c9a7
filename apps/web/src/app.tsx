import { createContext, useContext, useMemo, useState } from 'react';
import { Link, Route, Switch } from 'wouter';
import { ApiClient } from './api/client';
import { session } from './lib/session';
import { SignIn } from './pages/sign-in';
import { ProgramsPage } from './pages/programs';
import { ProgramShell } from './pages/program-shell';

const ApiContext = createContext<ApiClient | null>(null);

/** The client of the signed-in operator (every page below the sign-in has one). */
export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside a signed-in page');
  return api;
}

export function App() {
  const [token, setToken] = useState(session.token());
  const api = useMemo(() => (token ? new ApiClient(token) : null), [token]);
  if (!api) {
    return (
      <SignIn
        onSignedIn={(t) => {
          session.signIn(t);
          setToken(t);
        }}
      />
    );
  }
  const signOut = () => {
    session.signOut();
    setToken(null);
  };
  return (
    <ApiContext.Provider value={api}>
      <header className="top">
        <Link href="/" className="brand">
          Affiliate dashboard
        </Link>
        <button type="button" className="link-button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Switch>
          <Route path="/">
            <ProgramsPage />
          </Route>
          <Route path="/programs/:programId" nest>
            {(params) => <ProgramShell programId={params.programId} />}
          </Route>
          <Route>
            <h1>Page not found</h1>
            <p>
              This address is not a page of the dashboard. <Link href="/">Go to the programs</Link>.
            </p>
          </Route>
        </Switch>
      </main>
    </ApiContext.Provider>
  );
}
