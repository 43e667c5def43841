import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeCameraStream, installBrowserFakes } from '../test/fakes';
import { VideoTile } from './VideoTile';

describe('VideoTile', () => {
  afterEach(() => {
    Reflect.deleteProperty(document, 'fullscreenEnabled');
    Reflect.deleteProperty(document, 'fullscreenElement');
  });

  it('a camera that is off says so instead of a black picture; a microphone that is off says Muted', () => {
    installBrowserFakes(vi.fn());
    const stream = fakeCameraStream() as unknown as MediaStream;
    const { rerender } = render(<VideoTile stream={stream} label="Stranger" videoLabel="Stranger's video" placeholder="…" testID="remote-video" />);
    expect(screen.queryByTestId('remote-video-camera-off')).not.toBeInTheDocument();
    rerender(<VideoTile stream={stream} label="Stranger" videoLabel="Stranger's video" placeholder="…" testID="remote-video" cameraOff="Camera off" muted="Muted" />);
    expect(screen.getByTestId('remote-video-camera-off')).toHaveTextContent('Camera off');
    expect(screen.getByTestId('remote-video')).toHaveClass('tile-camera-off');
    expect(screen.getByTestId('remote-video-muted')).toHaveTextContent('Muted');
    expect(screen.getByRole('figure').querySelector('figcaption')).toHaveTextContent(/^Stranger Muted$/); // read as the caption
  });

  it('full screen: the button puts the picture full screen and takes it back', async () => {
    installBrowserFakes(vi.fn());
    Object.defineProperty(document, 'fullscreenEnabled', { configurable: true, value: true });
    let current: Element | null = null;
    Object.defineProperty(document, 'fullscreenElement', { configurable: true, get: () => current });
    const request = vi.fn(async function (this: Element) {
      current = this;
      document.dispatchEvent(new Event('fullscreenchange'));
    });
    const exit = vi.fn(async () => {
      current = null;
      document.dispatchEvent(new Event('fullscreenchange'));
    });
    Object.assign(HTMLElement.prototype, { requestFullscreen: request });
    Object.assign(document, { exitFullscreen: exit });
    render(
      <VideoTile
        stream={fakeCameraStream() as unknown as MediaStream}
        label="Stranger"
        videoLabel="Stranger's video"
        placeholder="…"
        testID="remote-video"
        fullscreen={{ enter: 'Full screen', exit: 'Exit full screen' }}
      />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Full screen' }));
    expect(request).toHaveBeenCalledTimes(1);
    expect(request.mock.contexts[0]).toBe(screen.getByTestId('remote-video'));
    await userEvent.click(await screen.findByRole('button', { name: 'Exit full screen' }));
    expect(exit).toHaveBeenCalledTimes(1);
    expect(await screen.findByRole('button', { name: 'Full screen' })).toBeInTheDocument();
  });

  it('no full-screen button without a picture', () => {
    render(<VideoTile stream={null} label="Stranger" videoLabel="v" placeholder="Looking…" testID="remote-video" fullscreen={{ enter: 'Full screen', exit: 'x' }} />);
    expect(screen.queryByRole('button', { name: 'Full screen' })).not.toBeInTheDocument();
  });
});
