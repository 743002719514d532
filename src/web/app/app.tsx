/** The page: the login, then the console of one session with its views, header and action dialog. */
import { useEffect, useMemo, useReducer, useState } from 'preact/hooks';
import { ApiClient } from './client.js';
import { browserPlatform } from '../../runtime/browser/platform.js';
import { type Connection, Session } from './session.js';
import type { ConsoleState } from './state.js';
import { ActionDialog, type Target } from './views/actions.js';
import { Nodes } from './views/cluster.js';
import { Components } from './views/components.js';
import { Config } from './views/config.js';
import { Events } from './views/events.js';
import { Group } from './views/groups.js';
import { Login } from './views/login.js';

const TOKEN_KEY = 'amfd.token';
const VIEWS = [
  ['overview', 'Overview'],
  ['components', 'Components'],
  ['events', 'Events'],
  ['config', 'Configuration'],
] as const;
type View = (typeof VIEWS)[number][0];

function viewOf(hash: string): View {
  const v = hash.replace(/^#/, '');
  return VIEWS.some(([k]) => k === v) ? (v as View) : 'overview';
}

function connectionText(c: Connection, st: ConsoleState | null): string {
  switch (c.kind) {
    case 'loading':
      return 'connecting…';
    case 'live':
      return `● live (event ${st?.seq ?? 0})`;
    case 'reconnecting':
      return `⟳ reconnecting (try ${c.attempt}): ${c.reason}`;
    case 'refused':
      return `✖ ${c.message}`;
  }
}

function Header({ st, connection, onLogout }: { readonly st: ConsoleState | null; readonly connection: Connection; readonly onLogout: () => void }) {
  const s = st?.status;
  return (
    <header>
      <h1>amfd console</h1>
      {s ? (
        <p class="summary">
          via <strong>{s.node}</strong> ({s.raft.role}) · leader <strong>{s.raft.leader ?? 'none (election)'}</strong> · term {s.raft.term} · config epoch {st.config.epoch}
        </p>
      ) : null}
      <p class={`connection ${connection.kind}`} role="status">
        {connectionText(connection, st)}
        {connection.kind === 'reconnecting' && st ? <span class="stale"> — the views show event {st.seq} and catch up once it is back</span> : null}
      </p>
      <button type="button" class="logout" onClick={onLogout}>
        Log out
      </button>
    </header>
  );
}

function Console({ token, onRefused, onLogout }: { readonly token: string; readonly onRefused: (message: string) => void; readonly onLogout: () => void }) {
  const session = useMemo(() => new Session(new ApiClient('', token), browserPlatform), [token]);
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  const [view, setView] = useState<View>(() => viewOf(location.hash));
  const [acting, setActing] = useState<Target | null>(null);
  useEffect(() => {
    const off = session.subscribe(() => {
      if (session.connection.kind === 'refused') onRefused(session.connection.message);
      redraw(undefined);
    });
    session.start();
    return () => {
      off();
      session.stop();
    };
  }, [session]);
  useEffect(() => {
    const on = (): void => setView(viewOf(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  const st = session.state;
  return (
    <div class="console" data-seq={st?.seq ?? 0} data-connection={session.connection.kind}>
      <a class="skip" href="#main">
        Skip to the view
      </a>
      <Header st={st} connection={session.connection} onLogout={onLogout} />
      <nav aria-label="views">
        <ul>
          {VIEWS.map(([k, label]) => (
            <li key={k}>
              <a href={`#${k}`} aria-current={view === k ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {st === null ? (
          <p>Reading the cluster…</p>
        ) : view === 'overview' ? (
          <>
            <Nodes nodes={st.nodes} status={st.status} act={setActing} />
            {st.groups.map((g) => (
              <Group key={g.name} g={g} recoveries={st.recoveries[g.name] ?? []} act={setActing} />
            ))}
          </>
        ) : view === 'components' ? (
          <Components groups={st.groups} log={st.log} />
        ) : view === 'events' ? (
          <Events log={st.log} />
        ) : (
          <Config config={st.config} />
        )}
      </main>
      {acting ? <ActionDialog key={`${acting.kind}/${acting.name}`} target={acting} client={session.client} onClose={() => setActing(null)} /> : null}
    </div>
  );
}

export function App() {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [notice, setNotice] = useState<string | null>(null);
  const leave = (message: string | null): void => {
    sessionStorage.removeItem(TOKEN_KEY);
    setNotice(message);
    setToken(null);
  };
  if (token === null) {
    return (
      <Login
        notice={notice}
        onToken={(t) => {
          sessionStorage.setItem(TOKEN_KEY, t);
          setNotice(null);
          setToken(t);
        }}
      />
    );
  }
  return <Console token={token} onRefused={(m) => leave(m)} onLogout={() => leave(null)} />;
}
