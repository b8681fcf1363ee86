/**
 * An option passed to the fault proxy is out of range, of the wrong type, or names a non-loopback host: the
 * one class `@proto/interface` defines (as every @proto package throws), so `instanceof` holds whichever
 * package it is imported from.
 */
export { InvalidParametersError } from '@proto/interface'
