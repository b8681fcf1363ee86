/** An option passed to the fault proxy is out of range, of the wrong type, or names a non-loopback host. */
export class InvalidParametersError extends Error {
  static override name = 'InvalidParametersError'

  constructor (message = 'Invalid parameters', options?: ErrorOptions) {
    super(message, options)
    this.name = 'InvalidParametersError'
  }
}
