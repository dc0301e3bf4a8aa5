// The built-in driver registry left the contract's namespace (issue 12); many tests load configurations with it.
global using Gateway.Drivers.BuiltIn;
