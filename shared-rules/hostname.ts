/**
 * A public hostname as this project takes one (`monitor.mozilla.org`): DNS labels of 1 to 63 letters, digits and
 * inner hyphens, at most 253 characters in all, ending in an alphabetic top-level domain. No scheme, port, path or
 * trailing dot. The config refuses any other `monitor:domain`, and the uptime check any other host, by this one rule.
 */
export const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** What a refusal says is expected instead. */
export const HOSTNAME_EXPECTED = "a hostname such as monitor.mozilla.org (no scheme, no path)";
