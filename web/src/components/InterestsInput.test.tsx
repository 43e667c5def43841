import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it } from 'vitest';
import { InterestsInput } from './InterestsInput';

function Field() {
  const [tags, setTags] = useState<string[]>([]);
  return <InterestsInput value={tags} onChange={setTags} />;
}

describe('InterestsInput', () => {
  it('the Add button adds what was typed (a phone keyboard may have no Enter to speak of), and focus stays in the field', async () => {
    render(<Field />);
    const field = screen.getByRole('textbox', { name: 'Interests (optional)' });
    const add = screen.getByRole('button', { name: 'Add' });
    expect(add).toBeDisabled();
    await userEvent.type(field, 'Board Games');
    await userEvent.click(add);
    expect(screen.getByRole('list', { name: 'Your interests' })).toHaveTextContent('board games');
    expect(field).toHaveValue('');
    expect(field).toHaveFocus();
    expect(field).toHaveAttribute('placeholder', 'e.g. music, chess');
  });
});
