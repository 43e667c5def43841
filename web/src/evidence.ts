// The evidence a report carries, from what the browser already holds: the last
// chat lines of the conversation and one still of the stranger's video. Nothing
// here leaves the browser unless its user sends a report.
import {
  MAX_CHAT_LENGTH,
  MAX_REPORT_CHAT_LINES,
  MAX_REPORT_FRAME_BYTES,
  MAX_REPORT_FRAME_WIDTH,
  MAX_REPORT_NOTE_LENGTH,
  type ReportChatLine,
  type ReportRequest,
} from './protocol';
import type { ChatLine } from './hooks/useMatch';

/** The conversation's last chat lines as a report sends them: no system lines, "me" is "you". */
export function reportChat(lines: readonly ChatLine[], limit = MAX_REPORT_CHAT_LINES): ReportChatLine[] {
  const said: ReportChatLine[] = [];
  for (const line of lines) {
    if (line.from === 'system') continue;
    said.push({ from: line.from === 'me' ? 'you' : 'stranger', text: line.text.slice(0, MAX_CHAT_LENGTH) });
  }
  return limit > 0 ? said.slice(-limit) : [];
}

/** The frame's size: at most maxWidth wide, the video's aspect ratio, never enlarged. */
export function frameSize(videoWidth: number, videoHeight: number, maxWidth = MAX_REPORT_FRAME_WIDTH): { width: number; height: number } {
  if (videoWidth <= maxWidth) return { width: videoWidth, height: videoHeight };
  return { width: maxWidth, height: Math.max(1, Math.round((videoHeight * maxWidth) / videoWidth)) };
}

const JPEG_PREFIX = 'data:image/jpeg;base64,';

/** The number of bytes a base64 data: URL decodes to. */
export function dataURLBytes(url: string): number {
  const comma = url.indexOf(',');
  const base64 = comma < 0 ? url : url.slice(comma + 1);
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/** JPEG qualities tried in turn, best first; the last one is the floor. */
export const FRAME_QUALITIES: readonly number[] = [0.85, 0.75, 0.65, 0.55, 0.45, 0.35, 0.25];

/**
 * Encodes at decreasing quality until the JPEG fits in maxBytes (decoded);
 * null when even the floor quality is too large, or the encoder gives no JPEG:
 * an oversize frame is never returned.
 */
export function encodeWithinLimit(
  encode: (quality: number) => string | null,
  maxBytes = MAX_REPORT_FRAME_BYTES,
  qualities: readonly number[] = FRAME_QUALITIES,
): string | null {
  for (const quality of qualities) {
    const url = encode(quality);
    if (!url || !url.startsWith(JPEG_PREFIX)) return null; // no JPEG encoder: it will not get better
    if (dataURLBytes(url) <= maxBytes) return url;
  }
  return null;
}

/** What captureFrame needs of a <video> (an HTMLVideoElement, or a fake in tests). */
export type FrameSource = Pick<HTMLVideoElement, 'videoWidth' | 'videoHeight' | 'readyState'> & CanvasImageSource;

export interface CaptureOptions {
  maxWidth?: number;
  maxBytes?: number;
  /** A fresh canvas (tests pass a fake). */
  createCanvas?: () => Pick<HTMLCanvasElement, 'width' | 'height' | 'getContext' | 'toDataURL'>;
}

// HTMLMediaElement.HAVE_CURRENT_DATA: a frame is there to draw.
const HAVE_CURRENT_DATA = 2;

/**
 * One still of the video as it is now: drawn to a canvas at most maxWidth wide
 * and encoded as a JPEG data: URL within maxBytes. Null when there is no video
 * frame (no stream, not playing yet, camera off before any frame) or it cannot be
 * made small enough.
 */
export function captureFrame(video: FrameSource | null | undefined, options: CaptureOptions = {}): string | null {
  if (!video || video.readyState < HAVE_CURRENT_DATA || video.videoWidth === 0 || video.videoHeight === 0) return null;
  return encodeStill(video, video.videoWidth, video.videoHeight, options);
}

/**
 * The same for a still already taken (the nudity check's ImageBitmap of the
 * stranger's video): drawn at most maxWidth wide and encoded within maxBytes, or null.
 */
export function encodeStill(image: CanvasImageSource, imageWidth: number, imageHeight: number, options: CaptureOptions = {}): string | null {
  const { maxWidth = MAX_REPORT_FRAME_WIDTH, maxBytes = MAX_REPORT_FRAME_BYTES } = options;
  if (imageWidth === 0 || imageHeight === 0) return null;
  const createCanvas = options.createCanvas ?? (() => document.createElement('canvas'));
  try {
    const { width, height } = frameSize(imageWidth, imageHeight, maxWidth);
    const canvas = createCanvas();
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d') as CanvasRenderingContext2D | null;
    if (!context) return null;
    context.drawImage(image, 0, 0, width, height);
    return encodeWithinLimit((quality) => canvas.toDataURL('image/jpeg', quality), maxBytes);
  } catch (error) {
    console.warn('frame capture failed', error);
    return null;
  }
}

// Control characters other than line breaks and tabs: the server refuses a note with them.
const CONTROL = /[\p{Cc}]/gu;
const KEPT_CONTROLS = new Set(['\n', '\r', '\t']);

/** The note as the server takes it: no other control characters, trimmed, at most 500 characters. */
export function cleanNote(note: string): string {
  return note
    .replace(CONTROL, (c) => (KEPT_CONTROLS.has(c) ? c : ''))
    .trim()
    .slice(0, MAX_REPORT_NOTE_LENGTH)
    .trim();
}

/**
 * The largest report frame this page sends (bytes of its JSON text): within the
 * server's read limit for a report (384 KiB), with room for the envelope. Only chat
 * full of characters JSON escapes to six bytes each gets near it.
 */
export const MAX_REPORT_MESSAGE_BYTES = 380_000;

const encodedBytes = (data: ReportRequest) => new TextEncoder().encode(JSON.stringify({ event: 'report', data })).length;

/**
 * A report that fits in maxBytes: the oldest chat lines go first, then the
 * still; a socket closed for an oversize frame would lose the report altogether.
 */
export function fitReport(data: ReportRequest, maxBytes = MAX_REPORT_MESSAGE_BYTES): ReportRequest {
  let fitted = data;
  while (encodedBytes(fitted) > maxBytes && fitted.chat && fitted.chat.length > 0) {
    const chat = fitted.chat.slice(1);
    fitted = { ...fitted, chat };
    if (chat.length === 0) delete fitted.chat;
  }
  if (encodedBytes(fitted) > maxBytes && fitted.frame) {
    fitted = { ...fitted };
    delete fitted.frame;
  }
  return fitted;
}
