/**
 * Hash routes: the host serves one index.html under /app/, and a fragment never reaches the
 * server (pairing codes ride in it). Routes:
 *   #/pair?code=…  #/            #/new       #/s/<id>      #/s/<id>/changes    #/settings
 */
export type SessionTab = 'chat' | 'changes';

export type Route =
  | { name: 'pair'; query: URLSearchParams }
  | { name: 'sessions' }
  | { name: 'new' }
  | { name: 'session'; id: string; tab: SessionTab }
  | { name: 'settings' };

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = (q >= 0 ? raw.slice(0, q) : raw).replace(/\/+$/, '');
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'pair':
      return { name: 'pair', query };
    case 'new':
      return { name: 'new' };
    case 'settings':
      return { name: 'settings' };
    case 's':
      if (parts[1]) return { name: 'session', id: parts[1], tab: parts[2] === 'changes' ? 'changes' : 'chat' };
      return { name: 'sessions' };
    default:
      return { name: 'sessions' };
  }
}

export function sessionHref(id: string, tab: SessionTab = 'chat'): string {
  return `#/s/${encodeURIComponent(id)}${tab === 'changes' ? '/changes' : ''}`;
}

/**
 * Where a finished pairing leads: off the pairing page to the sessions, but nowhere if the user
 * already moved on — the app shows the sessions as soon as the key is kept, while pairing still
 * waits for the first sync, and a tap on Settings meanwhile must not be undone.
 */
export function afterPairing(now: Route): string | null {
  return now.name === 'pair' ? '#/' : null;
}
