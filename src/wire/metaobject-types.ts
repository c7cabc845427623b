/** MetaObject structures (spec §3.1). Map keys equal member uids. */
export interface MetaMethodParameter {
  name: string;
  description: string;
}

export interface MetaMethod {
  uid: number;
  returnSignature: string;
  name: string;
  parametersSignature: string;
  description: string;
  parameters: MetaMethodParameter[];
  returnDescription: string;
}

export interface MetaSignal {
  uid: number;
  name: string;
  signature: string;
}

export interface MetaProperty {
  uid: number;
  name: string;
  signature: string;
}

export interface MetaObject {
  methods: Map<number, MetaMethod>;
  signals: Map<number, MetaSignal>;
  properties: Map<number, MetaProperty>;
  description: string;
}
