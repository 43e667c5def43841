import { useState, type KeyboardEvent } from 'react';
import { MAX_INTEREST_LENGTH, MAX_INTERESTS, normaliseInterest } from '../protocol';

export interface InterestsInputProps {
  value: string[];
  onChange: (tags: string[]) => void;
}

/** A tag field: Enter or comma adds a tag, Backspace on an empty field removes the last. */
export function InterestsInput({ value, onChange }: InterestsInputProps) {
  const [draft, setDraft] = useState('');
  const full = value.length >= MAX_INTERESTS;

  const commit = (raw: string) => {
    const tags = raw.split(',').map(normaliseInterest).filter((tag): tag is string => tag !== null);
    const next = [...value];
    for (const tag of tags) if (!next.includes(tag) && next.length < MAX_INTERESTS) next.push(tag);
    if (next.length !== value.length) onChange(next);
    setDraft('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' || event.key === ',') {
      event.preventDefault();
      commit(draft);
    } else if (event.key === 'Backspace' && draft === '' && value.length > 0) {
      onChange(value.slice(0, -1));
    }
  };

  return (
    <div className="interests">
      <label htmlFor="interests-input">Interests (optional)</label>
      <ul className="tags" aria-label="Your interests">
        {value.map((tag) => (
          <li key={tag} className="tag">
            {tag}
            <button type="button" aria-label={`Remove ${tag}`} onClick={() => onChange(value.filter((t) => t !== tag))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <input
        id="interests-input"
        type="text"
        autoComplete="off"
        value={draft}
        maxLength={MAX_INTEREST_LENGTH * 2}
        disabled={full}
        placeholder={full ? 'That is plenty' : 'e.g. music, chess — press Enter to add'}
        aria-describedby="interests-help"
        onChange={(event) => {
          const text = event.target.value;
          if (text.includes(',')) commit(text);
          else setDraft(text);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => draft.trim() && commit(draft)}
      />
      <p id="interests-help" className="help">
        We pair you with someone who shares one, if anyone does. Up to {MAX_INTERESTS}.
      </p>
    </div>
  );
}
