from . import test_roles, test_tour
