/** A pattern's body without its anchors, so that a longer rule can be built from a shared one. */
export function unanchored(pattern: RegExp): string {
  return pattern.source.replace(/^\^/, "").replace(/\$$/, "");
}
