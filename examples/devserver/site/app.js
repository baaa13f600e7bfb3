// Shows the notes of the backend (GET /api/notes) and adds one (POST /api/notes), both through the
// proxy. A file of its own, not inline script: a Content-Security-Policy of 'self' lets it run.
const list = document.getElementById("notes");
const status = document.getElementById("status");

function show(notes) {
  list.replaceChildren(...notes.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  status.textContent = `${notes.length} notes from /api/notes`;
}

async function call(method, body) {
  const response = await fetch("/api/notes", {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

document.getElementById("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  try {
    show(await call("POST", { text: input.value }));
    input.value = "";
  } catch (error) {
    status.textContent = `the backend said: ${error.message}`;
  }
});

call("GET").then(show, (error) => { status.textContent = `the backend said: ${error.message}`; });
