"""placeholder"""

from .dispatch import MethodTable

METHODS = MethodTable()
