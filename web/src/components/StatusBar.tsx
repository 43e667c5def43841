export interface StatusBarProps {
  text: string;
  detail?: string | null;
  tone: 'info' | 'ok' | 'warn';
}

/** The one-line status; a polite live region so screen readers hear each change. */
export function StatusBar({ text, detail, tone }: StatusBarProps) {
  return (
    <p className={`status status-${tone}`} role="status" aria-live="polite" data-testid="status">
      <span className="status-text">{text}</span>
      {detail ? <span className="status-detail"> · {detail}</span> : null}
    </p>
  );
}
