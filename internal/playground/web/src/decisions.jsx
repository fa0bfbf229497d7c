// The Decisions panel: which policy rule decided each field of the last response (the server's
// explanation, extensions.explain), coloured by effect, and on a development server a switch
// between the demo identities. Nothing here talks to any host but the page's own.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useEditorContext } from '@graphiql/react';

// A tiny store of the last explanation and of the explain switch, shared by the fetcher (which
// writes them) and the panel (which shows them).
let state = { explain: true, last: null };
const listeners = new Set();
const set = (next) => {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
};
const subscribe = (l) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

export const explaining = () => state.explain;
export const recordExplanation = (explanation) => set({ last: explanation });

// compactRecord shows the attributes of a record class that are set, each kept whole: a line
// breaks between attributes, never inside one.
function compactRecord(record = {}) {
  const parts = Object.entries(record)
    .filter(([, v]) => v !== '' && v !== false && v !== null)
    .map(([k, v]) => `${k}=${v}`);
  if (!parts.length) return '—';
  return parts.map((p, i) => (
    <span key={p} className="wv-id">
      {p}
      {i < parts.length - 1 ? ',' : ''}
    </span>
  )).reduce((acc, el) => (acc.length ? [...acc, ' ', el] : [el]), []);
}

function Identities() {
  const { headerEditor } = useEditorContext({ nonNull: true });
  const [identities, setIdentities] = useState(null);
  useEffect(() => {
    // Development servers list the demo identities with fresh tokens; production answers 404.
    window
      .fetch('/playground/identities.json', { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : null))
      .then(setIdentities)
      .catch(() => setIdentities(null));
  }, []);
  if (!identities || identities.length === 0) return null;
  const choose = (e) => {
    const who = identities.find((i) => i.email === e.target.value);
    if (who && headerEditor) {
      headerEditor.setValue(JSON.stringify({ Authorization: `Bearer ${who.token}` }, null, 2));
    }
  };
  return (
    <label className="wv-identity">
      Act as{' '}
      <select defaultValue="" onChange={choose} data-testid="identity">
        <option value="" disabled>
          a demo identity…
        </option>
        {identities.map((i) => (
          <option key={i.email} value={i.email}>
            {i.email} ({i.role})
          </option>
        ))}
      </select>
    </label>
  );
}

function DecisionsPanel() {
  const { explain, last } = useSyncExternalStore(subscribe, () => state);
  return (
    <div className="wv-decisions" data-testid="decisions">
      <div className="graphiql-doc-explorer-title">Decisions</div>
      <Identities />
      <label className="wv-switch">
        <input type="checkbox" checked={explain} onChange={(e) => set({ explain: e.target.checked })} /> Ask the server to
        explain its decisions
      </label>
      {!last && <p className="wv-hint">Run an operation to see which policy rule decided each field.</p>}
      {last && !last.available && <p className="wv-hint" data-testid="not-available">{last.reason}</p>}
      {last && last.available && (
        <>
          <p className="wv-hint">
            Policy revision <code>{last.policyRevision}</code>: {last.decisions.length} distinct decisions.
          </p>
          <table className="wv-table">
            <thead>
              <tr>
                <th>Field, record class</th>
                <th>Effect</th>
                <th>Rule</th>
                <th title="values decided">×</th>
              </tr>
            </thead>
            <tbody>
              {last.decisions.map((d) => (
                <tr key={`${d.type}.${d.field}/${d.action}/${JSON.stringify(d.record)}/${d.rule}`} className={`wv-${d.effect}`} data-effect={d.effect}>
                  <td>
                    <span className="wv-field">
                      <span className="wv-id">
                        {d.type}.{d.field}
                      </span>
                      {d.action === 'write' ? ' (write)' : ''}
                    </span>
                    <span className="wv-record">{compactRecord(d.record)}</span>
                  </td>
                  <td>{d.effect === 'mask' ? `mask ${d.mask}` : d.effect}</td>
                  <td>
                    <code className="wv-id">{d.rule}</code>
                    {d.grant ? ' (grant)' : ''}
                  </td>
                  <td>{d.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

function DecisionsIcon() {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
      <path d="M12 2 4 5v6c0 5 3.4 9.3 8 11 4.6-1.7 8-6 8-11V5l-8-3z" fill="none" stroke="currentColor" strokeWidth="1.5" />
      <path d="m8.5 12 2.5 2.5 4.5-5" fill="none" stroke="currentColor" strokeWidth="1.5" />
    </svg>
  );
}

export const decisionsPlugin = { title: 'Decisions', icon: DecisionsIcon, content: DecisionsPanel };
