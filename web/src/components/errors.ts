// Server error codes the page words itself (the server's own message is English).
const worded = ['unavailable', 'rate_limited'] as const;

type Worded = (typeof worded)[number];

/** The translation key for an error code from the server. */
export function errorKey(code: string): `errors.${Worded}` | 'errors.generic' {
  return (worded as readonly string[]).includes(code) ? `errors.${code as Worded}` : 'errors.generic';
}
