// A finished conversation as a plain-text file or clipboard text, made in the browser: nothing
// goes to the server (README: "What is stored").
import type { ChatLine, SystemNotice } from './hooks/useMatch';

/** The words of a transcript, in the page's language. */
export interface TranscriptWords {
  /** The first line, e.g. "Go-Megle: chat with a stranger, 2 December 2026 at 14:03". */
  heading: string;
  /** "You both like: music, chess", or null when nothing was shared. */
  common: string | null;
  you: string;
  stranger: string;
  system: (notice: SystemNotice) => string;
}

/** The conversation as text: a heading, then one line per message ("Stranger: hi"). */
export function transcriptText(lines: readonly ChatLine[], words: TranscriptWords): string {
  const out = [words.heading];
  if (words.common) out.push(words.common);
  out.push('');
  for (const line of lines) {
    if (line.from === 'system') out.push(`— ${words.system(line.notice)}`);
    else out.push(`${line.from === 'me' ? words.you : words.stranger}: ${line.text}`);
  }
  return out.join('\n') + '\n';
}

const two = (n: number) => String(n).padStart(2, '0');

/** go-megle-chat-2026-12-02-1403.txt: when the chat ended, in local time. */
export function transcriptFileName(ended: Date): string {
  const date = `${ended.getFullYear()}-${two(ended.getMonth() + 1)}-${two(ended.getDate())}`;
  return `go-megle-chat-${date}-${two(ended.getHours())}${two(ended.getMinutes())}.txt`;
}

/** Downloads text as a file of this name: a Blob and an <a download>, nothing fetched. */
export function downloadText(text: string, name: string, doc: Document = document): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = doc.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  doc.body.append(link);
  link.click();
  link.remove();
  // the download has its own copy once click() returns; the URL is let go after this task
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
