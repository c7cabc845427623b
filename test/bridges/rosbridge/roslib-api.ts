/**
 * The part of roslibjs 2.x these tests use, typed here: its published .d.ts files import
 * `.ts` paths this project's compiler settings do not resolve, so the classes come in untyped.
 */
import * as roslib from "roslib";

type Callback<T> = (value: T) => void;

export interface RosClient {
  connect(url: string): void;
  close(): void;
  on(event: string, listener: (e: unknown) => void): void;
  /** Sends one raw rosbridge message (what roslib's own classes use). */
  callOnConnection(message: Record<string, unknown>): void;
  authenticate(
    mac: string,
    client: string,
    dest: string,
    rand: string,
    t: number,
    level: string,
    end: number,
  ): void;
  getTopics(ok: Callback<{ topics: string[]; types: string[] }>, fail?: Callback<unknown>): void;
  getServices(ok: Callback<string[]>, fail?: Callback<unknown>): void;
  getTopicType(topic: string, ok: Callback<string>, fail?: Callback<unknown>): void;
}

export interface RosTopic {
  subscribe(callback: Callback<unknown>): void;
  unsubscribe(callback?: Callback<unknown>): void;
  publish(message: unknown): void;
}

export interface RosService {
  callService(request: unknown, ok: Callback<unknown>, fail?: Callback<unknown>): void;
}

export interface TopicOptions {
  ros: RosClient;
  name: string;
  messageType: string;
  compression?: string;
  throttle_rate?: number;
  queue_length?: number;
}

const lib = roslib as unknown as {
  Ros: new (options: { url?: string }) => RosClient;
  Topic: new (options: TopicOptions) => RosTopic;
  Service: new (options: { ros: RosClient; name: string; serviceType: string }) => RosService;
};

export const Ros = lib.Ros;
export const Topic = lib.Topic;
export const Service = lib.Service;
export type Ros = RosClient;
