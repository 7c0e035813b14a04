// Starts GraphiQL from the settings the hub wrote into the page (a JSON
// script element, so the page needs no inline script).
(function () {
  var settings = JSON.parse(document.getElementById('graphiql-settings').textContent);
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.query || undefined,
      headers: settings.headers || undefined,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false,
    })
  );
})();
