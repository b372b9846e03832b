// The console's shell: sign-in with the API's own strategy (none for noauth, user and password for
// http_basic, Keystone user/password/project or a token for keystone), the one live stream, and
// hash routes: #/ fleet, #/nodes/UUID, #/enroll, #/picture.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, getCredentials, runEventStream, setCredentials } from './api.ts';
import { Enroll } from './enroll.tsx';
import { Fleet } from './fleet.tsx';
import { NodePage } from './node.tsx';
import { PicturePage } from './picture.tsx';
import './style.css';

interface Session { strategy: string; user: string | null; project: string | null; roles: string[]; system: boolean }

function SignIn(props: { strategy: string; error: string; onDone: () => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [project, setProject] = useState('');
  const [token, setToken] = useState('');
  const [error, setError] = useState(props.error);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    try {
      if (props.strategy === 'http_basic') setCredentials({ kind: 'basic', user, secret: password });
      else if (token) setCredentials({ kind: 'token', token, label: 'token' });
      else {
        const r = await api<{ token: string }>('POST', '/console/api/sign-in', project ? { username: user, password, project } : { username: user, password, system: true });
        setCredentials({ kind: 'token', token: r.token, label: user });
      }
      props.onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const keystone = props.strategy === 'keystone';
  return (
    <form class="card sign-in" onSubmit={submit} aria-label="Sign in">
      <h2>Sign in to Anvil</h2>
      <p class="muted">{keystone ? 'With your Keystone user, and the project to work in (none: the system scope).' : 'With your HTTP basic user.'}</p>
      <label>User<input name="username" autocomplete="username" value={user} onInput={(e) => setUser(e.currentTarget.value)} /></label>
      <label>Password<input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} /></label>
      {keystone && <label>Project<input name="project" value={project} onInput={(e) => setProject(e.currentTarget.value)} /></label>}
      {keystone && <label>…or a token<input name="token" value={token} onInput={(e) => setToken(e.currentTarget.value)} /></label>}
      {error && <p class="error">{error}</p>}
      <div class="buttons"><button class="primary" type="submit">Sign in</button></div>
    </form>
  );
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App() {
  const [strategy, setStrategy] = useState<string | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [signInError, setSignInError] = useState('');
  const [live, setLive] = useState<'live' | 'down'>('down');
  const [attempt, setAttempt] = useState(0);
  const hash = useHash();

  useEffect(() => {
    api<{ auth: string }>('GET', '/console/api/config').then((c) => setStrategy(c.auth), (e) => setSignInError(e.message));
  }, []);
  useEffect(() => {
    if (strategy === null) return;
    if (strategy !== 'noauth' && getCredentials().kind === 'none') return;
    api<Session>('GET', '/console/api/session').then(setSession, (err) => {
      setCredentials({ kind: 'none' });
      setSignInError(err instanceof ApiError && err.status === 401 ? 'The user name or password was not accepted.' : err.message);
    });
  }, [strategy, attempt]);
  useEffect(() => {
    if (!session) return;
    const stop = new AbortController();
    void runEventStream(setLive, stop.signal);
    return () => stop.abort();
  }, [session]);

  if (strategy === null) return <p class="muted">{signInError || 'Loading…'}</p>;
  if (!session) {
    if (strategy === 'noauth') return <p class="muted">{signInError || 'Loading…'}</p>;
    return <SignIn strategy={strategy} error={signInError} onDone={() => setAttempt((a) => a + 1)} />;
  }
  const go = (h: string) => { location.hash = h; };
  const nodeMatch = /^#\/nodes\/([^/]+)$/.exec(hash);
  const who = session.strategy === 'noauth' ? 'noauth (system admin)' : `${session.user ?? '?'}${session.project ? ` · project ${session.project}` : session.system ? ' · system' : ''}`;
  return (
    <>
      <header>
        <h1><a href="#/">Anvil</a></h1>
        <nav>
          <a href="#/" class={hash === '#/' ? 'here' : ''}>Fleet</a>
          <a href="#/picture" class={hash === '#/picture' ? 'here' : ''}>Picture</a>
          <a href="#/enroll" class={hash === '#/enroll' ? 'here' : ''}>Enroll</a>
        </nav>
        <span class={`live ${live}`} data-testid="live" data-live={live}>{live === 'live' ? '● live' : '○ reconnecting'}</span>
        <span class="who" data-testid="who">{who}</span>
        {strategy !== 'noauth' && <button onClick={() => { setCredentials({ kind: 'none' }); setSession(null); setSignInError(''); }}>Sign out</button>}
      </header>
      <main>
        {nodeMatch ? <NodePage uuid={nodeMatch[1]} /> : hash === '#/enroll' ? <Enroll go={go} /> : hash === '#/picture' ? <PicturePage /> : <Fleet />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
