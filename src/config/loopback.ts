// Where plain http is tolerated for an endpoint keycard calls (JWKS, introspection): only this host.

/** Whether a URL's hostname (`new URL(...).hostname`) names the loopback interface. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname.startsWith('127.');
}
