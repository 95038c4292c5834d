// The benchmark's "before" (bench/tti.mjs): the same app, started the way it was before
// snapshots. Built by tti.mjs into /app/replay/ of the benchmark's host; never shipped.
import { mount } from 'svelte';
import '../../src/app.css';
import App from '../../src/App.svelte';
import { appContext } from '../../src/lib/context';
import { router } from '../../src/lib/router.svelte';
import { AppStore } from '../../src/lib/store/app.svelte';
import type { StartStrategy } from '../../src/lib/store/sync';
import { applyTheme, loadTheme } from '../../src/lib/theme';

/** `GET /events` answers at most this many events at a time. */
const PAGE = 10_000;

/**
 * The old start: the session from `GET /sessions/{id}`, then every event of the log from seq 0,
 * 10,000 per `GET /events?since=` page, each page folded in by the store's own event folding
 * (`ingest`, as live events are); the feed streams after the last one.
 */
const replayStart: StartStrategy = {
  async sync(t) {
    const [status, list, usage] = await Promise.all([t.api.status(), t.api.sessions(), t.api.usage()]);
    t.setStatus(status);
    t.sessions.replace(list.sessions, 0);
    t.usage.set(usage);
    await Promise.all(t.details.openIds().map((id) => t.details.load(id)));
    let since = 0;
    for (;;) {
      const page = await t.api.events(since);
      t.ingest(page);
      since = page.at(-1)?.seq ?? since;
      if (page.length < PAGE) return since;
    }
  },
  async load(t, id) {
    const { prompts, commits, ...session } = await t.api.session(id);
    return { seq: 0, session, prompts: prompts.map((p) => ({ ...p, reply: p.reply ?? '' })), commits, activity: {}, proposals: {}, estimates: {}, writing: null };
  },
};

applyTheme(loadTheme());
const app = new AppStore({ strategy: replayStart });
// As src/main.ts does: requests and the session screen's code go out before the first render.
const first = router.route;
if (first.name === 'session') void import('../../src/screens/SessionScreen.svelte').catch(() => undefined);
void app.start(first.name === 'session' ? first.id : null);
const target = document.getElementById('app');
if (!target) throw new Error('no #app');
mount(App, { target, context: appContext(app) });
