export interface ControlsProps {
  video: boolean;
  audioEnabled: boolean;
  videoEnabled: boolean;
  autoNext: boolean;
  nextLabel: string;
  onNext: () => void;
  onStop: () => void;
  onToggleAudio: () => void;
  onToggleVideo: () => void;
  onAutoNext: (value: boolean) => void;
}

export function Controls(props: ControlsProps) {
  const { video, audioEnabled, videoEnabled, autoNext, nextLabel } = props;
  return (
    <div className="controls" role="toolbar" aria-label="Call controls">
      <button type="button" className="primary" onClick={props.onNext} aria-keyshortcuts="Escape">
        {nextLabel} <kbd>Esc</kbd>
      </button>
      <button type="button" className="danger" onClick={props.onStop}>
        Stop
      </button>
      {video && (
        <>
          <button type="button" aria-pressed={!audioEnabled} onClick={props.onToggleAudio}>
            {audioEnabled ? 'Mute' : 'Unmute'}
          </button>
          <button type="button" aria-pressed={!videoEnabled} onClick={props.onToggleVideo}>
            {videoEnabled ? 'Camera off' : 'Camera on'}
          </button>
        </>
      )}
      <label className="check">
        <input type="checkbox" checked={autoNext} onChange={(event) => props.onAutoNext(event.target.checked)} />
        Find a new stranger automatically
      </label>
    </div>
  );
}
