/** The login: the API token, checked against the node before it is kept (in this tab's session storage only). */
import { useState } from 'preact/hooks';
import { ApiClient } from '../client.js';

export function Login({ onToken, notice }: { readonly onToken: (token: string) => void; readonly notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const t = token.trim();
    if (t === '') return setError('Enter the API token.');
    setBusy(true);
    const r = await new ApiClient('', t).get('/status');
    setBusy(false);
    if (r.ok) onToken(t);
    else setError(r.error.message);
  };
  return (
    <main class="login">
      <h1>amfd console</h1>
      <form onSubmit={(ev) => void submit(ev)} aria-describedby="login-hint">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={(ev) => setToken((ev.target as HTMLInputElement).value)} autoFocus />
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
        {error !== null ? (
          <p role="alert" class="error" id="login-error">
            {error}
          </p>
        ) : null}
      </form>
      <p id="login-hint" class="quiet">
        The token is the node’s API token (<code>api.token</code> or the file named by <code>api.token_file</code>). It is kept in this browser tab only and sent as a bearer header.
      </p>
    </main>
  );
}
