import { describe, expect, it } from 'vitest';
import { isVirtualCamera } from './virtualCameras';

describe('isVirtualCamera', () => {
  it.each([
    'OBS Virtual Camera',
    'OBS-Camera',
    'ManyCam Virtual Webcam',
    'Snap Camera',
    'XSplit VCam',
    'e2eSoft VCam',
    'Logi Capture',
    'Virtual Camera', // what v4l2loopback's examples and several programs call theirs
  ])('%s is a virtual camera', (label) => expect(isVirtualCamera(label)).toBe(true));

  it.each([
    'FaceTime HD Camera',
    'Integrated Camera (04f2:b6d9)',
    'Logitech BRIO',
    'HD Pro Webcam C920',
    'DroidCam Source 3', // a phone's live camera
    'fake_device_0', // Chromium's fake camera
    '', // no label before the browser allowed the camera
  ])('%s is not', (label) => expect(isVirtualCamera(label)).toBe(false));
});
