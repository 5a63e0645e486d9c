// Small DOM helpers: build elements without innerHTML (so no text is ever parsed as
// markup), keep focus where it was when a view is drawn again, and wait for a hidden
// tab to be seen.

/**
 * h('button', {class: 'btn', type: 'button', onclick: fn}, 'text', child, ...)
 * Attributes: class, dataset {..}, on<event> handlers, true for a bare attribute,
 * null/false/undefined to leave it out; anything else is set as an attribute.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (name === 'value') el.value = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Set text only when it changed (keeps screen readers from hearing the same thing). */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/** The id of the focused element inside root, to focus it again after a redraw. */
export function focusedId(root) {
  const a = document.activeElement;
  return a && a !== document.body && root.contains(a) && a.id ? a.id : null;
}

export function refocus(id) {
  if (!id) return false;
  const el = document.getElementById(id);
  if (el) {
    el.focus({ preventScroll: true });
    return true;
  }
  return false;
}

/** A status or alert line: kind 'info' | 'ok' | 'warn' | 'error'. */
export function notice(kind, text, ...actions) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' || kind === 'warn' ? 'alert' : 'status' },
    h('p', { class: 'notice-text' }, text),
    actions.length ? h('div', { class: 'notice-actions' }, actions) : null);
}

/**
 * Run fn now, or in a tab nobody looks at (a background tab) once somebody does, so
 * that hidden pages do not poll. Returns a function that cancels the wait.
 */
export function whenSeen(fn) {
  if (document.visibilityState !== 'hidden') {
    fn();
    return () => {};
  }
  const seen = () => {
    if (document.visibilityState === 'hidden') return;
    document.removeEventListener('visibilitychange', seen);
    fn();
  };
  document.addEventListener('visibilitychange', seen);
  return () => document.removeEventListener('visibilitychange', seen);
}
