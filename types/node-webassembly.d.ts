/**
 * The WebAssembly global as Node provides it, for the Node check
 * (tsconfig.json), which has no DOM types: @types/node 20 leaves WebAssembly
 * to lib.dom. Only the members training/ uses are declared.
 */
declare namespace WebAssembly {
  interface Module {}
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface WebAssemblyInstantiatedSource {
    instance: Instance;
    module: Module;
  }
  function instantiate(bytes: ArrayBufferView | ArrayBuffer, imports?: Record<string, Record<string, unknown>>): Promise<WebAssemblyInstantiatedSource>;
}
