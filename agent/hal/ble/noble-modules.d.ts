/**
 * Types for the two noble entry points that its own typings leave out. Both export a factory that
 * builds a `Noble` instance: `with-bindings` over a bindings object we provide (the simulator), and
 * `with-custom-binding` over the platform's bindings with options such as the HCI device id.
 */
declare module '@abandonware/noble/with-bindings.js' {
  const withBindings: (bindings: import('node:events').EventEmitter) => unknown;
  export default withBindings;
}

declare module '@abandonware/noble/with-custom-binding.js' {
  const withCustomBinding: (options?: { deviceId?: number; extended?: boolean }) => unknown;
  export default withCustomBinding;
}
