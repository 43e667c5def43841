import { describe, expect, it, vi } from 'vitest';
import { captureFrame, cleanNote, dataURLBytes, encodeWithinLimit, fitReport, FRAME_QUALITIES, frameSize, reportChat, type FrameSource } from './evidence';
import type { ChatLine } from './hooks/useMatch';
import { MAX_REPORT_FRAME_BYTES } from './protocol';

/** A JPEG data: URL whose base64 part decodes to exactly bytes bytes. */
function jpegOf(bytes: number): string {
  const base64 = 'A'.repeat(Math.ceil(bytes / 3) * 4);
  const padding = (3 - (bytes % 3)) % 3;
  return `data:image/jpeg;base64,${base64.slice(0, base64.length - padding)}${'='.repeat(padding)}`;
}

describe('reportChat', () => {
  let id = 0;
  const me = (text: string): ChatLine => ({ id: ++id, from: 'me', text });
  const them = (text: string): ChatLine => ({ id: ++id, from: 'stranger', text });
  const system = (notice: 'matched' | 'partner_left'): ChatLine => ({ id: ++id, from: 'system', notice });

  it('maps me to "you", keeps "stranger" and leaves the page\'s own lines out', () => {
    expect(reportChat([system('matched'), me('hi'), them('hello'), system('partner_left')])).toEqual([
      { from: 'you', text: 'hi' },
      { from: 'stranger', text: 'hello' },
    ]);
  });

  it('keeps the last 20 lines said, in order, however many system lines are among them', () => {
    const lines: ChatLine[] = [system('matched')];
    for (let n = 1; n <= 30; n++) lines.push(n % 2 ? me(`line ${n}`) : them(`line ${n}`), system('matched'));
    const chat = reportChat(lines);
    expect(chat).toHaveLength(20);
    expect(chat[0]).toEqual({ from: 'you', text: 'line 11' });
    expect(chat.at(-1)).toEqual({ from: 'stranger', text: 'line 30' });
  });

  it('is empty for a conversation with nothing said', () => {
    expect(reportChat([system('matched')])).toEqual([]);
    expect(reportChat([])).toEqual([]);
  });

  it('never sends a line over the chat limit', () => {
    expect(reportChat([them('x'.repeat(2500))])[0].text).toHaveLength(2000);
  });
});

describe('frameSize', () => {
  it.each([
    [1280, 720, 640, 360],
    [1920, 1080, 640, 360],
    [640, 480, 640, 480],
    [320, 240, 320, 240], // never enlarged
    [3000, 1, 640, 1], // never zero high
  ])('%i×%i → %i×%i', (w, h, width, height) => {
    expect(frameSize(w, h)).toEqual({ width, height });
  });
});

describe('dataURLBytes', () => {
  it.each([1, 2, 3, 4, 1000, 150_000, 150_001])('counts %i decoded bytes', (bytes) => {
    expect(dataURLBytes(jpegOf(bytes))).toBe(bytes);
  });
});

describe('encodeWithinLimit', () => {
  it('steps the quality down until the JPEG fits, and returns that one', () => {
    const sizes = new Map([
      [0.85, 400_000],
      [0.75, 260_000],
      [0.65, 170_000],
      [0.55, 149_000],
    ]);
    const encode = vi.fn((quality: number) => jpegOf(sizes.get(quality) ?? 100_000));
    const url = encodeWithinLimit(encode);
    expect(encode.mock.calls.map(([quality]) => quality)).toEqual([0.85, 0.75, 0.65, 0.55]);
    expect(url).not.toBeNull();
    expect(dataURLBytes(url!)).toBe(149_000);
    expect(dataURLBytes(url!)).toBeLessThanOrEqual(MAX_REPORT_FRAME_BYTES);
  });

  it('takes the first quality when it already fits', () => {
    const encode = vi.fn((_quality: number) => jpegOf(20_000));
    expect(encodeWithinLimit(encode)).toBe(jpegOf(20_000));
    expect(encode).toHaveBeenCalledTimes(1);
  });

  it('accepts exactly the limit, not a byte more', () => {
    expect(encodeWithinLimit(() => jpegOf(MAX_REPORT_FRAME_BYTES))).not.toBeNull();
    expect(encodeWithinLimit(() => jpegOf(MAX_REPORT_FRAME_BYTES + 1))).toBeNull();
  });

  it('gives up at the floor quality and returns nothing rather than an oversize frame', () => {
    const encode = vi.fn((_quality: number) => jpegOf(MAX_REPORT_FRAME_BYTES + 1));
    expect(encodeWithinLimit(encode)).toBeNull();
    expect(encode.mock.calls.map(([quality]) => quality)).toEqual([...FRAME_QUALITIES]);
    expect(Math.min(...encode.mock.calls.map(([quality]) => quality))).toBe(FRAME_QUALITIES.at(-1));
  });

  it('gives up at once when the browser gives no JPEG (a PNG fallback)', () => {
    const encode = vi.fn((_quality: number) => 'data:image/png;base64,AAAA');
    expect(encodeWithinLimit(encode)).toBeNull();
    expect(encode).toHaveBeenCalledTimes(1);
  });
});

describe('captureFrame', () => {
  /** A canvas that records what was drawn and encodes to sizes that shrink with quality. */
  function fakeCanvas(bytesAt: (quality: number) => number) {
    const canvas = {
      width: 0,
      height: 0,
      drawn: [] as unknown[][],
      qualities: [] as number[],
      getContext: (kind: string) => (kind === '2d' ? { drawImage: (...args: unknown[]) => canvas.drawn.push(args) } : null),
      toDataURL: (type: string, quality: number) => {
        canvas.qualities.push(quality);
        return type === 'image/jpeg' ? jpegOf(bytesAt(quality)) : 'data:image/png;base64,';
      },
    };
    return canvas;
  }
  const video = (videoWidth: number, videoHeight: number, readyState = 4) => ({ videoWidth, videoHeight, readyState }) as unknown as FrameSource;

  it('draws the video downscaled to 640 wide and returns a JPEG within the limit', () => {
    const canvas = fakeCanvas((quality) => Math.round(quality * 300_000)); // 0.45 → 135 000
    const source = video(1280, 720);
    const url = captureFrame(source, { createCanvas: () => canvas as unknown as HTMLCanvasElement });
    expect(canvas.width).toBe(640);
    expect(canvas.height).toBe(360);
    expect(canvas.drawn).toEqual([[source, 0, 0, 640, 360]]);
    expect(canvas.qualities).toEqual([0.85, 0.75, 0.65, 0.55, 0.45]);
    expect(url?.startsWith('data:image/jpeg;base64,')).toBe(true);
    expect(dataURLBytes(url!)).toBeLessThanOrEqual(150_000);
  });

  it('no frame from a video with nothing to show yet, or none at all', () => {
    const createCanvas = vi.fn();
    expect(captureFrame(null, { createCanvas })).toBeNull();
    expect(captureFrame(video(0, 0), { createCanvas })).toBeNull();
    expect(captureFrame(video(640, 480, 1), { createCanvas })).toBeNull(); // HAVE_METADATA: no frame yet
    expect(createCanvas).not.toHaveBeenCalled();
  });

  it('no frame when it cannot be made small enough', () => {
    const canvas = fakeCanvas(() => 1_000_000);
    expect(captureFrame(video(640, 480), { createCanvas: () => canvas as unknown as HTMLCanvasElement })).toBeNull();
  });

  it('no frame (and no exception) when the canvas refuses', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const canvas = {
      ...fakeCanvas(() => 1),
      toDataURL: () => {
        throw new DOMException('tainted', 'SecurityError');
      },
    };
    expect(captureFrame(video(640, 480), { createCanvas: () => canvas as unknown as HTMLCanvasElement })).toBeNull();
  });
});

describe('cleanNote', () => {
  it('keeps line breaks and tabs, drops other control characters, trims, and holds 500 characters', () => {
    expect(cleanNote('  line one\nline\ttwo\u0007\u0000  ')).toBe('line one\nline\ttwo');
    expect(cleanNote('x'.repeat(600))).toHaveLength(500);
    expect(cleanNote(' \u0007 ')).toBe('');
  });
});

describe('fitReport', () => {
  const line = (n: number, text = 'x'.repeat(1000)) => ({ from: n % 2 ? ('you' as const) : ('stranger' as const), text: `${n} ${text}` });
  const bytes = (data: object) => new TextEncoder().encode(JSON.stringify({ event: 'report', data })).length;

  it('leaves a report that fits as it is', () => {
    const data = { reason: 'nudity' as const, frame: jpegOf(100_000), chat: [line(1), line(2)] };
    expect(fitReport(data)).toBe(data);
  });

  it('drops the oldest chat lines first, then the still, to stay within the read limit', () => {
    // Chat the stranger filled with characters JSON writes as \u0001: six bytes each.
    const escaped = '\u0001'.repeat(1990);
    const chat = Array.from({ length: 20 }, (_, n) => line(n, escaped));
    const data = { reason: 'nudity' as const, frame: jpegOf(150_000), chat };
    expect(bytes(data)).toBeGreaterThan(380_000);
    const fitted = fitReport(data);
    expect(bytes(fitted)).toBeLessThanOrEqual(380_000);
    expect(fitted.frame).toBe(data.frame);
    expect(fitted.chat!.length).toBeLessThan(20);
    expect(fitted.chat!.at(-1)).toBe(chat.at(-1)); // the newest lines stay

    const tiny = fitReport(data, 1_000);
    expect(tiny).toEqual({ reason: 'nudity' });
  });
});
