"""The WebSub hub of flask-websub (the real hub code: its Flask blueprint,
its celery tasks, its SQLite storage), on 127.0.0.1, for
scripts/check-websub.sh.

Celery runs the tasks eagerly, in this process, instead of through a
broker: subscribing verifies the subscriber's intent before the hub answers,
and a publish notification fetches the topic and delivers it to every
subscriber before the hub answers, which is all a one-machine check needs.
The hub accepts `hub.mode=publish` only with PUBLISH_SUPPORTED, which it
leaves off by default.

Usage: websub_hub.py DB_PATH PORT_FILE
Writes the port it listens on to PORT_FILE once it accepts connections.
"""

import logging
import os
import sys

from celery import Celery
from flask import Flask
from flask_websub.hub import Hub, SQLite3HubStorage
from werkzeug.serving import make_server


def main():
    db_path, port_file = sys.argv[1:3]
    logging.basicConfig(level=logging.INFO, format="[hub] %(levelname)s %(name)s: %(message)s")
    celery = Celery("hub", broker="memory://")
    celery.conf.task_always_eager = True
    celery.conf.task_eager_propagates = True
    app = Flask(__name__)
    app.config["PUBLISH_SUPPORTED"] = True
    hub = Hub(SQLite3HubStorage(db_path), celery, REQUEST_TIMEOUT=5, MAX_ATTEMPTS=2)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.port))
    # Renamed whole, so a reader never sees half a number.
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
