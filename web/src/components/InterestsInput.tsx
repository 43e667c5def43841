import { useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { MAX_INTEREST_LENGTH, MAX_INTERESTS, normaliseInterest } from '../protocol';

export interface InterestsInputProps {
  value: string[];
  onChange: (tags: string[]) => void;
}

/**
 * A tag field: Enter, a comma or the Add button (phones' keyboards hide Enter's meaning)
 * adds a tag, Backspace on an empty field removes the last.
 */
export function InterestsInput({ value, onChange }: InterestsInputProps) {
  const { t } = useTranslation();
  const [draft, setDraft] = useState('');
  const full = value.length >= MAX_INTERESTS;

  const commit = (raw: string) => {
    // Interests are the users' own words: matched as typed, in any language.
    const tags = raw.split(/[,،]/).map(normaliseInterest).filter((tag): tag is string => tag !== null);
    const next = [...value];
    for (const tag of tags) if (!next.includes(tag) && next.length < MAX_INTERESTS) next.push(tag);
    if (next.length !== value.length) onChange(next);
    setDraft('');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter' || event.key === ',' || event.key === '،') {
      event.preventDefault();
      commit(draft);
    } else if (event.key === 'Backspace' && draft === '' && value.length > 0) {
      onChange(value.slice(0, -1));
    }
  };

  return (
    <div className="interests">
      <label htmlFor="interests-input">{t('interests.label')}</label>
      <ul className="tags" aria-label={t('interests.yours')}>
        {value.map((tag) => (
          <li key={tag} className="tag" dir="auto">
            {tag}
            <button type="button" aria-label={t('interests.remove', { tag })} onClick={() => onChange(value.filter((other) => other !== tag))}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <div className="interests-row">
        <input
          id="interests-input"
          type="text"
          dir="auto"
          autoComplete="off"
          enterKeyHint="done"
          value={draft}
          maxLength={MAX_INTEREST_LENGTH * 2}
          disabled={full}
          placeholder={full ? t('interests.full') : t('interests.placeholder')}
          aria-describedby="interests-help"
          onChange={(event) => {
            const text = event.target.value;
            if (/[,،]/.test(text)) commit(text);
            else setDraft(text);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => draft.trim() && commit(draft)}
        />
        {/* pressing it keeps focus (and a phone's keyboard) in the field */}
        <button type="button" className="interests-add" onMouseDown={(event) => event.preventDefault()} onClick={() => commit(draft)} disabled={full || !draft.trim()}>
          {t('interests.add')}
        </button>
      </div>
      <p id="interests-help" className="help">
        {t('interests.help', { max: MAX_INTERESTS })}
      </p>
    </div>
  );
}
