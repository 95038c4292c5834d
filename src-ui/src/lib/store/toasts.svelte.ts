export interface Toast {
  id: number;
  kind: 'error' | 'warning' | 'info';
  text: string;
}

/** Short notices at the bottom of the screen: errors for 10 s, the rest for 6 s, at most four. */
export class Toasts {
  list = $state<Toast[]>([]);
  #id = 0;

  push(kind: Toast['kind'], text: string): void {
    const id = ++this.#id;
    // The same message twice in a row (a flapping link) stays one toast.
    if (this.list.at(-1)?.text === text) return;
    this.list = [...this.list.slice(-3), { id, kind, text }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 10_000 : 6_000);
  }

  dismiss(id: number): void {
    this.list = this.list.filter((t) => t.id !== id);
  }

  clear(): void {
    this.list = [];
  }
}
