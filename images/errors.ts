// Errors an image operation raises. They are DriverErrors: the message is what an operator
// reads in a node's last_error, so each says what was wrong with which image.
import { DriverError } from '../common/errors.ts';

export class ImageError extends DriverError {
  constructor(message: string, code = 'ImageError') { super(message, code); }
}
/** The downloaded bytes do not hash to the expected checksum. */
export class ChecksumMismatch extends ImageError {
  constructor(message: string) { super(message, 'ImageChecksumError'); }
}
/** The image cannot be downloaded (HTTP error, missing file, timeout). */
export class ImageDownloadError extends ImageError {
  constructor(message: string) { super(message, 'ImageDownloadFailed'); }
}
/** The image is not usable: wrong format, corrupt, has a backing file, too big for the disk. */
export class ImageRefused extends ImageError {
  constructor(message: string) { super(message, 'InvalidImage'); }
}
