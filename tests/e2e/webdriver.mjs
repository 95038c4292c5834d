// A small W3C WebDriver client (fetch only) for the desktop app's real window: tauri-driver
// forwards to WebKitWebDriver, which drives the app's WebKitGTK webview. Just what the tests
// use: sessions, finding elements by CSS, clicking, typing, reading text, running a script,
// screenshots.

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class WebDriver {
  /** @param {string} base e.g. http://127.0.0.1:4444 */
  constructor(base) {
    this.base = base;
    this.session = null;
  }

  async cmd(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok || json.value?.error) {
      const e = new Error(`WebDriver ${method} ${path}: ${res.status} ${json.value?.error ?? ''} ${json.value?.message ?? ''}`);
      e.code = json.value?.error;
      throw e;
    }
    return json.value;
  }

  async start(application) {
    const value = await this.cmd('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application } } },
    });
    this.session = value.sessionId;
    return value;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  async quit() {
    if (this.session) await this.cmd('DELETE', this.s('')).catch(() => undefined);
    this.session = null;
  }

  /** The first element matching `css`, waiting up to `timeout` ms for it. */
  async find(css, timeout = 30_000) {
    const end = Date.now() + timeout;
    for (;;) {
      try {
        const v = await this.cmd('POST', this.s('/element'), { using: 'css selector', value: css });
        if (!v?.[ELEMENT]) throw new Error(`unexpected element answer ${JSON.stringify(v)}`);
        return v[ELEMENT];
      } catch (e) {
        if (e.code !== 'no such element' || Date.now() > end) throw new Error(`no ${css} within ${timeout} ms (${e.message})`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async findAll(css) {
    const v = await this.cmd('POST', this.s('/elements'), { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT]);
  }

  async click(css, timeout) {
    const id = await this.find(css, timeout);
    await this.cmd('POST', this.s(`/element/${id}/click`), {});
  }

  async type(css, text) {
    const id = await this.find(css);
    await this.cmd('POST', this.s(`/element/${id}/clear`), {});
    await this.cmd('POST', this.s(`/element/${id}/value`), { text });
  }

  async text(css, timeout) {
    const id = await this.find(css, timeout);
    return this.cmd('GET', this.s(`/element/${id}/text`));
  }

  /** Waits until `css` matches an element whose text matches `re`. */
  async waitText(css, re, timeout = 30_000) {
    const end = Date.now() + timeout;
    let last = '';
    for (;;) {
      try {
        last = await this.text(css, 1000);
        if (re.test(last)) return last;
      } catch {
        // not there yet
      }
      if (Date.now() > end) throw new Error(`${css} never matched ${re} within ${timeout} ms (last: ${JSON.stringify(last)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Focuses `css` and holds `key` down on it (until `release(key)`). */
  async hold(css, key) {
    const id = await this.find(css);
    await this.execute('arguments[0].focus()', [{ [ELEMENT]: id }]);
    await this.cmd('POST', this.s('/actions'), {
      actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: key }] }],
    });
  }

  async release(key) {
    await this.cmd('POST', this.s('/actions'), {
      actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyUp', value: key }] }],
    });
  }

  async attribute(css, name) {
    const id = await this.find(css);
    return this.cmd('GET', this.s(`/element/${id}/attribute/${name}`));
  }

  execute(script, args = []) {
    return this.cmd('POST', this.s('/execute/sync'), { script, args });
  }

}
