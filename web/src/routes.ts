// Which page this is: the Go server serves index.html for every path it does
// not know, so the moderator console is routed here, on the path alone.

/** /mod and everything under it is the moderator console. */
export function isConsolePath(pathname: string): boolean {
  return pathname === '/mod' || pathname.startsWith('/mod/');
}
