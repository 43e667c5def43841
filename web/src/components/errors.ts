// Server error codes the page words itself (the server's own message is English).
const worded = new Set(['unavailable', 'rate_limited', 'too_large']);

/** The translation key for an error code from the server. */
export function errorKey(code: string): string {
  return worded.has(code) ? `errors.${code}` : 'errors.generic';
}
