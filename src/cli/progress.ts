/** A one-line progress bar on stderr: items, pages, pages/min, ETA. Silent when not a TTY. */
export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(private readonly write: (s: string) => void, private readonly enabled: boolean) {}

  update(s: { itemsDone: number; itemsTotal: number; pagesDone: number; pagesTotal: number }, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const minutes = (now - this.started) / 60_000;
    const ppm = minutes > 0 ? s.pagesDone / minutes : 0;
    const frac = s.itemsTotal ? s.itemsDone / s.itemsTotal : 0;
    const width = 24;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const pagesLeft = Math.max(0, s.pagesTotal - s.pagesDone);
    const eta = ppm > 0 && pagesLeft > 0 ? `${Math.ceil(pagesLeft / ppm)} 分钟 / min` : '—';
    this.write(
      `\r${bar} 件 items ${s.itemsDone}/${s.itemsTotal}  页 pages ${s.pagesDone}${s.pagesTotal ? `/${s.pagesTotal}` : ''}  ${ppm.toFixed(1)} 页/分 pages/min  剩余 ETA ${eta}   `,
    );
  }

  done(): void {
    if (this.enabled) this.write('\n');
  }
}
