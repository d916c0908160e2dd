// The JupyterLab route's page script (an anywidget module; see widgets/lab.py).
// - tells the kernel the project chosen earlier in this Lab tab (sessionStorage) and the name
//   given earlier (the session cookie the page status keeps), so the page needs no code edit;
// - keeps a project chosen on the page for the next page opened;
// - opens a link to another page (01-explore.ipynb?project=demo) as a notebook in Lab,
//   instead of letting the browser reload Lab and lose the project.

const KEY = "ew-lab-project";
const COOKIE = "ew_user";

function remembered() {
  try {
    return sessionStorage.getItem(KEY) || "";
  } catch (e) {
    return "";
  }
}

function remember(project) {
  try {
    if (project) sessionStorage.setItem(KEY, project);
  } catch (e) {
    /* storage disabled: the chooser still works on each page */
  }
}

function nameFromCookie() {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === COOKIE) {
      try {
        return decodeURIComponent(value.join("="));
      } catch (e) {
        return "";
      }
    }
  }
  return "";
}

function labConfig() {
  const el = document.getElementById("jupyter-config-data");
  try {
    return el ? JSON.parse(el.textContent) : {};
  } catch (e) {
    return {};
  }
}

// The Lab path of the notebook holding `node`: from Lab's application object when it is
// exposed (jupyter lab --LabApp.expose_app_in_browser=True, as `make lab` starts it), else
// from the address (/lab/tree/<path>), which Lab keeps on the current notebook.
function notebookPath(app, node) {
  if (app) {
    for (const widget of app.shell.widgets("main")) {
      if (widget.node.contains(node) && widget.context) return widget.context.path;
    }
  }
  const match = location.pathname.match(/\/(?:lab|doc)(?:\/workspaces\/[^/]+)?\/tree\/(.*)$/);
  return match ? decodeURIComponent(match[1]) : null;
}

function joinPath(dir, relative) {
  const parts = dir ? dir.split("/") : [];
  for (const part of relative.split("/")) {
    if (part === "..") parts.pop();
    else if (part && part !== ".") parts.push(part);
  }
  return parts.join("/");
}

async function openInLab(app, path) {
  const widget = await app.commands.execute("docmanager:open", { path, activate: true });
  if (!widget || !widget.context) return;
  await widget.context.ready;
  if (widget.sessionContext) await widget.sessionContext.ready;
  app.shell.activateById(widget.id);
  await app.commands.execute("notebook:run-all-cells");
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element && event.target.closest("a[href]");
  if (!link || !link.closest(".ew-lab")) return;
  const href = link.getAttribute("href");
  // only the app's own relative links to a notebook: not #fragments, not other sites
  if (!href || /^[a-z][a-z0-9+.-]*:|^\/|^#/i.test(href)) return;
  const url = new URL(href, "http://page.invalid/");
  if (!url.pathname.endsWith(".ipynb")) return;
  const app = window.jupyterapp;
  const here = notebookPath(app, link);
  if (here === null) return; // nowhere to resolve it from: the browser follows the link
  event.preventDefault();
  const project = url.searchParams.get("project");
  if (project) remember(project);
  const dir = here.includes("/") ? here.slice(0, here.lastIndexOf("/")) : "";
  const target = joinPath(dir, decodeURIComponent(url.pathname.slice(1)));
  if (app) {
    openInLab(app, target).catch((e) => console.error("ethics-workbook: cannot open", target, e));
    return;
  }
  const base = labConfig().baseUrl || "/";
  const encoded = target.split("/").map(encodeURIComponent).join("/");
  location.assign(`${base}lab/tree/${encoded}`);
}

function render({ model, el }) {
  el.classList.add("ew-lab-session-widget");
  if (!window.ewLabLinks) {
    window.ewLabLinks = true;
    document.addEventListener("click", onClick, true);
  }
  const store = () => remember(model.get("project"));
  model.on("change:project", store);
  model.send({ type: "hello", project: remembered(), name: nameFromCookie() });
  return () => model.off("change:project", store);
}

export default { render };
