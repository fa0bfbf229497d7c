// GraphiQL playground for the wvsoft GraphQL API.
//
// Everything this page needs is bundled by build.mjs into
// internal/playground/dist and embedded in the Go binary, so the page talks
// to nobody but its own origin.
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { parse } from 'graphql';
import 'graphiql/graphiql.css';
import './style.css';
import { decisionsPlugin, explaining, recordExplanation } from './decisions.jsx';

// The headers editor starts with this template; the placeholder token is
// never sent (see withoutPlaceholder) so introspection still works before the
// user has pasted a real one.
const PLACEHOLDER = "<paste a token from 'wvsoft token EMAIL'>";
const DEFAULT_HEADERS = JSON.stringify({ Authorization: `Bearer ${PLACEHOLDER}` }, null, 2);

function withoutPlaceholder(headers = {}) {
  return Object.fromEntries(
    Object.entries(headers).filter(([, value]) => !String(value).includes(PLACEHOLDER)),
  );
}

const baseFetcher = createGraphiQLFetcher({
  url: '/graphql',
  // Subscriptions go over a WebSocket to the same origin's /graphql (graphql-transport-ws, with
  // graphql-ws bundled into this page). The headers editor's Authorization travels in
  // connection_init's payload, which is where the server reads the bearer token.
  subscriptionUrl: `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/graphql`,
  // The server answers with one JSON document (no @defer); the simple fetcher hands it back
  // whole, extensions included, for the Decisions panel.
  enableIncrementalDelivery: false,
  // Authentication is by bearer token only: never send cookies.
  fetch: (input, init = {}) =>
    window.fetch(input, { ...init, credentials: 'omit', headers: withoutPlaceholder(init.headers) }),
});

// Every operation asks the server to explain its decisions while the Decisions panel's switch
// is on; the server answers only policy authors (and everyone on a development server). The
// schema's introspection says nothing about decisions and leaves the last explanation alone.
async function fetcher(params, opts = {}) {
  const headers = withoutPlaceholder(explaining() ? { ...opts.headers, 'X-WvSoft-Explain': '1' } : opts.headers);
  // The toolkit sends a subscription over the WebSocket when the document GraphiQL parsed says
  // it is one; an operation run before the editor parsed it would otherwise go by POST.
  let documentAST = opts.documentAST;
  if (!documentAST) {
    try {
      documentAST = parse(params.query);
    } catch {
      // Not a document: the server says what is wrong with it.
    }
  }
  const result = await baseFetcher(params, { ...opts, documentAST, headers });
  if (params.operationName !== 'IntrospectionQuery' && result && typeof result === 'object' && !(Symbol.asyncIterator in result)) {
    recordExplanation(result.extensions?.explain ?? null);
  }
  return result;
}

// GraphiQL keeps tabs, query history and favourites in localStorage. With
// shouldPersistHeaders={false} (below) the tabs leave headers out, but history
// and favourites store every query's headers, bearer token included. This is
// GraphiQL's default storage (localStorage, "graphiql:" keys) minus those.
const NAMESPACE = 'graphiql:';
const WITH_HEADERS = { 'graphiql:queries': 'queries', 'graphiql:favorites': 'favorites' };
const graphiqlKeys = () => Object.keys(localStorage).filter((key) => key.startsWith(NAMESPACE));
// The Decisions panel opens wide enough for its rule ids and field names (GraphiQL's default
// gives the plugin pane a quarter of the window): 0.6 is the pane's flex against the editors' 1,
// about three eighths of the window. Dragging the bar between them still resizes it, and
// GraphiQL stores what the user chose under the same key.
const PANEL_FLEX_KEY = 'graphiql:docExplorerFlex';
const PANEL_FLEX = '0.6';
const storage = {
  getItem: (key) => localStorage.getItem(key) ?? (key === PANEL_FLEX_KEY ? PANEL_FLEX : null),
  removeItem: (key) => localStorage.removeItem(key),
  setItem(key, value) {
    const list = WITH_HEADERS[key];
    if (list) {
      const stored = JSON.parse(value);
      stored[list] = stored[list].map(({ headers, ...item }) => item);
      value = JSON.stringify(stored);
    }
    localStorage.setItem(key, value);
  },
  get length() {
    return graphiqlKeys().length;
  },
  clear() {
    graphiqlKeys().forEach((key) => localStorage.removeItem(key));
  },
};

// shouldPersistHeaders={false} also hides the setting that would store them.
createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    storage={storage}
    defaultHeaders={DEFAULT_HEADERS}
    isHeadersEditorEnabled
    defaultEditorToolsVisibility="headers"
    shouldPersistHeaders={false}
    plugins={[decisionsPlugin]}
    visiblePlugin={decisionsPlugin}
  />,
);
