// RCA: see its issue; the module exists so the layout and dependencies are in place.
import Stream
enum RCAModule {}
