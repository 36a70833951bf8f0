// Small DOM helpers: routes clone their markup from a <template> in
// index.html and find their parts by `data-ref`, so markup stays in HTML.

/** Clones `<template id=...>` and returns the fragment with its refs. */
export function fromTemplate(id) {
  const fragment = document.getElementById(id).content.cloneNode(true);
  const refs = {};
  for (const node of fragment.querySelectorAll("[data-ref]")) {
    refs[node.dataset.ref] = node;
  }
  return { fragment, refs };
}

/** Creates an element with a class and children (strings or nodes). */
export function el(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children);
  return node;
}

/** Sets the text only when it changed, so aria-live does not re-announce it. */
export function setText(node, text) {
  if (node.textContent === text) return false;
  node.textContent = text;
  return true;
}
