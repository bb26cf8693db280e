// The console's shell: sign in, the pages, the workspace in view.
import { apiKey, getJson, setApiKey } from "./api.js";
import { $, releaseAll } from "./dom.js";
import * as admin from "./admin.js";
import * as history from "./history.js";
import * as playground from "./playground.js";
import * as proof from "./proof.js";

const PAGES = { playground, history, admin, proof };
const state = { workspace: null, refresh: () => refreshWorkspace() };

function showPage(name) {
  for (const section of document.querySelectorAll("main > section.page")) {
    section.hidden = section.id !== `page-${name}`;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.dataset.page === name);
  }
}

async function route() {
  if (!state.workspace) {
    showPage("sign-in");
    return;
  }
  let name = location.hash.replace(/^#/, "") || "playground";
  if (!(name in PAGES) || (name === "admin" && !state.workspace.is_admin_key)) name = "playground";
  showPage(name);
  try {
    await PAGES[name].show(state);
  } catch (error) {
    if (state.workspace) $("status").textContent = error.message;
  }
}

async function refreshWorkspace() {
  state.workspace = await getJson("/v1/workspace");
  const ws = state.workspace;
  $("who-workspace").textContent = `${ws.name} (${ws.is_admin_key ? "admin key" : "key"})`;
  $("who-zdr").textContent = ws.zdr_enabled ? "zero data retention" : "history kept";
  $("who-zdr").classList.toggle("zdr", ws.zdr_enabled);
  $("nav-admin").hidden = !ws.is_admin_key;
  return ws;
}

async function signIn(key) {
  setApiKey(key);
  try {
    await refreshWorkspace();
  } catch (error) {
    setApiKey(null);
    state.workspace = null;
    throw error;
  }
  $("nav").hidden = false;
  $("who").hidden = false;
  for (const page of Object.values(PAGES)) page.init(state);
}

function signOut() {
  releaseAll();
  playground.stop();
  proof.stop();
  setApiKey(null);
  state.workspace = null;
  $("nav").hidden = true;
  $("who").hidden = true;
  location.hash = "";
  route();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("sign-in-error").textContent = "";
  const input = $("api-key");
  try {
    await signIn(input.value.trim());
    input.value = "";
    route();
  } catch (error) {
    $("sign-in-error").textContent =
      error.status === 401 ? "This key is not valid on this server." : error.message;
  }
});
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
window.addEventListener("pagehide", releaseAll);

(async () => {
  const key = apiKey();
  if (key) {
    try {
      await signIn(key);
    } catch {
      // a key from before a restart that is no longer valid: ask again
    }
  }
  route();
})();
