"""Real oslo.messaging RPC traffic for migscope's AMQP decoder test.

Runs an RPC server shaped like nova-compute (exchange 'nova', topic 'compute', server
'dst-host', endpoints named like nova's live-migration RPCs) and a client that calls
and casts them through a RabbitMQ broker on 127.0.0.1:PORT. Prints one JSON line per
message oslo.messaging serialises (the ground truth): calls/casts with their method,
_msg_id and _reply_q, and the server's replies with their _msg_id and ending flag.
Usage: python3 oslo_rpc.py PORT
"""
import json
import os
import sys
import threading

from oslo_config import cfg
import oslo_messaging as messaging
from oslo_messaging._drivers import common as rpc_common

PORT = int(sys.argv[1])
INSTANCE_UUID = '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b'
lock = threading.Lock()
cast_done = threading.Event()


def record(kind, **fields):
    with lock:
        print(json.dumps(dict(kind=kind, **fields)), flush=True)


_serialize = rpc_common.serialize_msg


def serialize_and_record(raw):
    # Every call, cast and reply goes through here just before it is published.
    if 'method' in raw:
        record('call' if '_msg_id' in raw else 'cast', method=raw['method'],
               msg_id=raw.get('_msg_id'), reply_q=raw.get('_reply_q'))
    else:
        record('reply', msg_id=raw.get('_msg_id'), ending=raw.get('ending'),
               failure=raw.get('failure') is not None)
    return _serialize(raw)


rpc_common.serialize_msg = serialize_and_record


def nova_instance():
    # How nova serialises an Instance object on the wire (NovaObject primitive).
    return {'nova_object.name': 'Instance', 'nova_object.namespace': 'nova',
            'nova_object.version': '2.7',
            'nova_object.data': {'uuid': INSTANCE_UUID, 'host': 'src-host'},
            'nova_object.changes': ['host']}


class ComputeEndpoint(object):
    target = messaging.Target(version='6.0')

    def check_can_live_migrate_source(self, ctxt, instance, dest_check_data):
        return {'is_shared_instance_path': False, 'checked': dest_check_data}

    def pre_live_migration(self, ctxt, instance, block_migration, disk, migrate_data):
        return {'migrate_data': migrate_data, 'serial_listen_addr': '127.0.0.1'}

    def live_migration(self, ctxt, instance, dest, block_migration, migration, migrate_data):
        cast_done.set()

    def post_live_migration_at_destination(self, ctxt, instance, block_migration):
        return None

    def rollback_live_migration_at_destination(self, ctxt, instance, destroy_disks):
        raise ValueError('rollback refused for the test')


def main():
    conf = cfg.CONF  # oslo.messaging registers its metrics options on the global config
    conf([], project='migscope-test', default_config_files=[])
    url = 'rabbit://guest:guest@127.0.0.1:%d/' % PORT
    transport = messaging.get_rpc_transport(conf, url=url)
    server = messaging.get_rpc_server(
        transport, messaging.Target(topic='compute', server='dst-host', exchange='nova'),
        [ComputeEndpoint()], executor='threading')
    server.start()
    client = messaging.get_rpc_client(
        transport, messaging.Target(topic='compute', exchange='nova', version='6.0'), timeout=20)
    cctxt = client.prepare(server='dst-host')
    ctxt = {'user_id': 'u1', 'project_id': 'p1', 'request_id': 'req-migscope'}
    inst = nova_instance()
    cctxt.call(ctxt, 'check_can_live_migrate_source', instance=inst, dest_check_data={'dest': 'dst-host'})
    cctxt.call(ctxt, 'pre_live_migration', instance=inst, block_migration=False, disk=None,
               migrate_data={'dest': 'dst-host'})
    cctxt.cast(ctxt, 'live_migration', instance=inst, dest='dst-host', block_migration=False,
               migration=None, migrate_data=None)
    if not cast_done.wait(20):
        record('error', message='cast never arrived')
    cctxt.call(ctxt, 'post_live_migration_at_destination', instance=inst, block_migration=False)
    try:
        cctxt.call(ctxt, 'rollback_live_migration_at_destination', instance=inst, destroy_disks=True)
    except ValueError:
        pass
    record('done')
    # server.stop()/transport.cleanup() wait on heartbeat threads for ~10 s; every
    # message is already on the wire, and the broker sees the connections close.
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    main()
