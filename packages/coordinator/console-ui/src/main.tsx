/** The console's entry: sign-in until a session exists, then the console. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Who } from './api.js';
import { ApiFailure, currentSession, onSignedOut, signIn, signOut } from './api.js';
import { App } from './app.js';

function SignIn({ signedIn, note }: { signedIn: (who: Who) => void; note?: string }) {
  const [problem, setProblem] = useState<string | undefined>(note);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    try {
      signedIn(await signIn(String(form.get('accessKeyId') ?? '').trim(), String(form.get('secretAccessKey') ?? '').trim()));
    } catch (err) {
      setProblem(err instanceof ApiFailure ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="signin" onSubmit={(e) => void submit(e)}>
      <h1>fleetdeploy</h1>
      <p class="muted">Sign in with an access key (fleetdeploy-coordinator keys create).</p>
      <label>
        Access key id
        <input name="accessKeyId" autocomplete="username" required spellcheck={false} />
      </label>
      <label>
        Secret access key
        <input name="secretAccessKey" type="password" autocomplete="current-password" required />
      </label>
      <button type="submit" class="primary" disabled={busy}>
        Sign in
      </button>
      {problem !== undefined && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}

function Root() {
  const [who, setWho] = useState<Who | undefined | null>(null); // null: not known yet
  const [note, setNote] = useState<string | undefined>(undefined);
  useEffect(() => {
    onSignedOut(() => {
      setNote('Your session ended; sign in again.');
      setWho(undefined);
    });
    currentSession().then(setWho, (err: unknown) => {
      setNote(String(err));
      setWho(undefined);
    });
  }, []);
  if (who === null) return <p class="boot">Loading…</p>;
  if (who === undefined) return <SignIn signedIn={setWho} {...(note === undefined ? {} : { note })} />;
  return (
    <App
      who={who}
      signOut={() => {
        void signOut().finally(() => {
          setNote(undefined);
          setWho(undefined);
        });
      }}
    />
  );
}

render(<Root />, document.getElementById('app')!);
