#!/bin/sh
# A tower's health: at least $1 dhcrelay processes run (one per family it relays).
[ "$(pgrep -c -x dhcrelay)" -ge "$1" ]
