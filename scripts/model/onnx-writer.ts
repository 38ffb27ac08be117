/**
 * Writes ONNX models (the ModelProto protobuf of onnx/onnx.proto, IR version 8) from a small graph
 * description, so the training script and the tests build real `.onnx` files without Python. Only
 * the messages and fields a float graph of standard operators needs are declared below; their field
 * numbers are those of onnx.proto, so any ONNX reader (onnxruntime, netron, onnx.checker) reads the
 * result. protobufjs does the wire encoding.
 */
import protobuf from 'protobufjs';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

const onnxSubset = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            name: { type: 'string', id: 8 },
          },
        },
        Dimension: {
          fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } },
        },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        TensorType: {
          fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
        },
        TypeProto: { fields: { tensorType: { type: 'TensorType', id: 1 } } },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
      },
    },
  },
});

const ModelProto = onnxSubset.lookupType('onnx.ModelProto');

/** A dimension: a fixed size, or a symbolic name (a batch size chosen at run time). */
export type Dim = number | string;
export type AttributeValue = number | readonly number[];

interface NodeSpec {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integers are written as INT, arrays as INTS, other numbers as FLOAT; `floatAttrs` forces FLOAT. */
  readonly attrs?: Readonly<Record<string, AttributeValue>>;
  readonly floatAttrs?: readonly string[];
}

function valueInfo(name: string, dims: readonly Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue, forceFloat: boolean) {
  if (typeof value !== 'number') return { name, type: ATTR_INTS, ints: [...value] };
  if (!forceFloat && Number.isInteger(value)) return { name, type: ATTR_INT, i: value };
  return { name, type: ATTR_FLOAT, f: value };
}

/** A float32 ONNX graph, built node by node and written with `toBytes()`. */
export class OnnxGraph {
  readonly #name: string;
  readonly #inputs: ReturnType<typeof valueInfo>[] = [];
  readonly #outputs: ReturnType<typeof valueInfo>[] = [];
  readonly #initializers: { name: string; dims: number[]; dataType: number; floatData: number[] }[] = [];
  readonly #nodes: object[] = [];

  constructor(name: string) {
    this.#name = name;
  }

  input(name: string, dims: readonly Dim[]): this {
    this.#inputs.push(valueInfo(name, dims));
    return this;
  }

  output(name: string, dims: readonly Dim[]): this {
    this.#outputs.push(valueInfo(name, dims));
    return this;
  }

  /** A constant tensor (an initializer) of float32 values in row-major order. */
  constant(name: string, dims: readonly number[], values: ArrayLike<number>): this {
    const count = dims.reduce((a, b) => a * b, 1);
    if (values.length !== count) {
      throw new RangeError(`constant ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
    }
    this.#initializers.push({ name, dims: [...dims], dataType: FLOAT, floatData: Array.from(values) });
    return this;
  }

  node(spec: NodeSpec): this {
    const attrs = Object.entries(spec.attrs ?? {}).map(([k, v]) =>
      attribute(k, v, spec.floatAttrs?.includes(k) ?? false),
    );
    this.#nodes.push({
      name: `${spec.op.toLowerCase()}_${this.#nodes.length}`,
      opType: spec.op,
      input: [...spec.inputs],
      output: [...spec.outputs],
      attribute: attrs,
    });
    return this;
  }

  /** The serialized ModelProto (opset 17 of the default domain unless told). */
  toBytes(meta: {
    producer: string;
    doc?: string;
    opset?: number;
    props?: Record<string, string>;
  }): Uint8Array {
    const message = ModelProto.fromObject({
      irVersion: 8,
      producerName: meta.producer,
      producerVersion: '1',
      docString: meta.doc ?? '',
      opsetImport: [{ domain: '', version: meta.opset ?? 17 }],
      metadataProps: Object.entries(meta.props ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.#name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs,
        output: this.#outputs,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
