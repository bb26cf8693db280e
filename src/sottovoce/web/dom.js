// Small DOM helpers. Content is always set as text, never parsed as HTML.
export function $(id) {
  return document.getElementById(id);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
}

export function showError(id, error) {
  $(id).textContent = error ? error.message || String(error) : "";
}

export function when(unix) {
  return new Date(unix * 1000).toLocaleString();
}

// An object URL for audio, revoked when replaced or when the page goes away.
const urls = new Map();

export function holdUrl(slot, blob) {
  releaseUrl(slot);
  const url = URL.createObjectURL(blob);
  urls.set(slot, url);
  return url;
}

export function releaseUrl(slot) {
  const url = urls.get(slot);
  if (url) {
    URL.revokeObjectURL(url);
    urls.delete(slot);
  }
}

export function releaseAll() {
  for (const slot of [...urls.keys()]) releaseUrl(slot);
}

// Hand a blob to the user as a file, then let it go.
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
