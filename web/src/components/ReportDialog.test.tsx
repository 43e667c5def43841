import { fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { ReportDialog, type ReportDialogProps } from './ReportDialog';

/** A page with a Report button that opens the dialog, and something behind it. */
function Page(props: Partial<ReportDialogProps> & { onPageEscape?: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <div
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) props.onPageEscape?.();
      }}
    >
      <button type="button" onClick={() => setOpen(true)}>
        Report
      </button>
      <input aria-label="Behind" />
      {open && (
        <ReportDialog
          hasFrame={props.hasFrame ?? true}
          chatLines={props.chatLines ?? 2}
          onSubmit={props.onSubmit ?? (() => setOpen(false))}
          onCancel={() => {
            props.onCancel?.();
            setOpen(false);
          }}
        />
      )}
    </div>
  );
}

async function openDialog(props: Parameters<typeof Page>[0] = {}) {
  const user = userEvent.setup();
  render(<Page {...props} />, { reactStrictMode: true });
  const opener = screen.getByRole('button', { name: 'Report' });
  await user.click(opener);
  return { user, opener, dialog: screen.getByRole('dialog', { name: 'Report this stranger' }) };
}

describe('ReportDialog', () => {
  it('is a labelled modal that says what goes with the report, and takes focus', async () => {
    const { dialog } = await openDialog();
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveAccessibleDescription(/a still of the stranger's video, taken just now, and the last messages/);
    expect(screen.getByRole('radio', { name: 'Nudity' })).toHaveFocus();
    expect(screen.getByRole('group', { name: 'Why are you reporting them?' })).toBeInTheDocument();
    expect(screen.getAllByRole('radio').map((radio) => (radio as HTMLInputElement).value)).toEqual([
      'nudity',
      'sexual',
      'harassment',
      'spam',
      'underage',
      'other',
    ]);
  });

  it.each([
    [false, 0, /only the reason and your note/],
    [false, 3, /^Your report includes the last messages of this chat\.$/],
    [true, 0, /^Your report includes a still of the stranger's video, taken just now\.$/],
  ])('with frame=%s and %i chat lines it says so', async (hasFrame, chatLines, text) => {
    const { dialog } = await openDialog({ hasFrame, chatLines });
    expect(dialog).toHaveAccessibleDescription(text);
  });

  it('requires a reason: sending without one says so and sends nothing', async () => {
    const onSubmit = vi.fn();
    const { user } = await openDialog({ onSubmit });
    await user.click(screen.getByRole('button', { name: 'Send report' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert')).toHaveTextContent('Choose a reason.');
    expect(screen.getByRole('group', { name: 'Why are you reporting them?' })).toHaveAccessibleDescription('Choose a reason.');
    expect(screen.getByRole('radio', { name: 'Nudity' })).toHaveFocus();

    await user.click(screen.getByRole('radio', { name: 'Spam, scams or advertising' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    await user.type(screen.getByRole('textbox', { name: 'What happened? (optional)' }), 'links to a shop');
    await user.click(screen.getByRole('button', { name: 'Send report' }));
    expect(onSubmit).toHaveBeenCalledWith({ reason: 'spam', note: 'links to a shop' });
  });

  it('the note holds at most 500 characters, and counts them', async () => {
    const onSubmit = vi.fn();
    const { user } = await openDialog({ onSubmit });
    const note = screen.getByRole('textbox', { name: 'What happened? (optional)' });
    expect(note).toHaveAttribute('maxLength', '500');
    expect(note).toHaveAccessibleDescription('0/500 characters');
    await user.type(note, 'abc');
    expect(screen.getByTestId('report-note-count')).toHaveTextContent('3/500 characters');
    fireEvent.change(note, { target: { value: 'x'.repeat(600) } }); // a paste past the limit
    expect((note as HTMLTextAreaElement).value).toHaveLength(500);
    expect(screen.getByTestId('report-note-count')).toHaveTextContent('500/500 characters');
    await user.click(screen.getByRole('radio', { name: 'Something else' }));
    await user.click(screen.getByRole('button', { name: 'Send report' }));
    expect(onSubmit).toHaveBeenCalledWith({ reason: 'other', note: 'x'.repeat(500) });
  });

  it('traps focus: Tab from the last control wraps to the first, Shift+Tab from the first to the last', async () => {
    const { user } = await openDialog();
    const nudity = screen.getByRole('radio', { name: 'Nudity' });
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    expect(nudity).toHaveFocus();
    await user.tab({ shift: true });
    expect(cancel).toHaveFocus();
    await user.tab();
    expect(nudity).toHaveFocus();
    await user.tab(); // the radio group is one stop
    expect(screen.getByRole('textbox', { name: 'What happened? (optional)' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Send report' })).toHaveFocus();
    await user.tab();
    expect(cancel).toHaveFocus();
    await user.tab();
    expect(nudity).toHaveFocus();

    // With a reason chosen, the group's stop is the checked radio.
    const harassment = screen.getByRole('radio', { name: 'Harassment, threats or hate' });
    await user.click(harassment);
    cancel.focus();
    await user.tab();
    expect(harassment).toHaveFocus();
    await user.tab({ shift: true });
    expect(cancel).toHaveFocus();
  });

  it('focus that escapes (the page behind moving it) is brought back', async () => {
    const { dialog } = await openDialog();
    screen.getByRole('textbox', { name: 'Behind' }).focus();
    expect(dialog).toContainElement(document.activeElement as HTMLElement);
  });

  it('Esc closes it, returns focus to the Report button, and is not the page\'s Esc', async () => {
    const onCancel = vi.fn();
    const onPageEscape = vi.fn();
    const { user, opener } = await openDialog({ onCancel, onPageEscape });
    await user.keyboard('{Escape}');
    expect(onCancel).toHaveBeenCalledTimes(1);
    expect(onPageEscape).not.toHaveBeenCalled();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('Cancel closes it and returns focus too', async () => {
    const { user, opener } = await openDialog();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });
});
