from . import test_energy, test_lifecycle, test_roles, test_tour
