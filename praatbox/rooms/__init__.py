"""Rooms as plain state: no Flask, sockets, Redis or gevent; time is passed in and every change
returns decisions (`Send`, `Close`) that the hub carries out."""
