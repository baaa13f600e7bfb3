// --live-reload (handlers/livereload/reloader.py): reload this page when a file of the served folder is saved,
// or swap its stylesheets in place when only stylesheets changed. The server tells which on an event
// stream; when the stream is lost (the server stopped), the browser reconnects every "retry:"
// milliseconds with the id of the last message it saw, and the server answers "reload" if that is not
// its latest (it restarted, or files changed meanwhile).
//
// One stream per browser rather than per tab: over HTTP/1.1 a browser opens at most six connections to
// a server and each stream holds one for good, so the tab holding the lock listens and tells the
// others on a BroadcastChannel (where the browser has both, as a secure context such as
// http://localhost does; elsewhere each tab listens itself).
(() => {
  "use strict";
  const STREAM = "/-/livereload";
  const NAME = "reactor-livereload";
  const channel = "BroadcastChannel" in self ? new BroadcastChannel(NAME) : null;
  let leaving = false;

  function refreshStylesheets() {
    for (const link of document.querySelectorAll('link[rel~="stylesheet"][href]')) {
      const url = new URL(link.href);
      if (url.origin !== location.origin) continue; // only this server's files change here
      url.searchParams.set("livereload", Date.now());
      const fresh = link.cloneNode();
      fresh.href = url.href;
      // The old sheet stays until the new one is in: no flash of an unstyled page.
      fresh.addEventListener("load", () => link.remove());
      fresh.addEventListener("error", () => link.remove());
      link.after(fresh);
    }
  }

  function act(kind) {
    if (kind === "css") {
      refreshStylesheets();
    } else {
      leaving = true;
      location.reload();
    }
  }

  function tell(kind) {
    if (channel) channel.postMessage(kind);
    act(kind);
  }

  function listen() {
    const source = new EventSource(STREAM);
    source.addEventListener("reload", () => {
      source.close(); // the server ended the stream: this page goes, the next one listens again
      tell("reload");
    });
    source.addEventListener("css", () => tell("css"));
  }

  if (channel && navigator.locks) {
    channel.addEventListener("message", (event) => act(event.data));
    navigator.locks.request(NAME, () => {
      if (leaving) return null; // told to reload while it waited: the next page listens
      listen();
      return new Promise(() => {}); // held until this page goes away; then another tab listens
    });
  } else {
    listen();
  }
})();
